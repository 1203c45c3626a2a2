"""The reporting channel: cases passed on with consent, and the answers kept out of the conversation."""
