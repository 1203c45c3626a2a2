"""`python -m bot.staff add USERNAME ...`: the staff accounts command (accounts.py)."""
from bot.staff.accounts import main

raise SystemExit(main())
