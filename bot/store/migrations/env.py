"""Alembic runs this for bot/store/schema.py, on the store's own connection:
already in a transaction, which holds the lock that lets one gateway at a time
migrate. Nothing here reads alembic.ini or DATABASE_URL."""
from alembic import context

# transactional_ddl: on SQLite too, schema.py has begun the transaction itself.
context.configure(connection=context.config.attributes["connection"], transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
