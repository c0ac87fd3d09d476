"""Authorization of telephony requests: RS256 tokens against each call center's certificates."""
