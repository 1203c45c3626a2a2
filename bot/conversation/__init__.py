"""One conversation turn, the same for every channel: checks, redaction, language, the gateway's own
replies, the rate limit, one turn at a time, the safety floor, and the client of Rasa."""
