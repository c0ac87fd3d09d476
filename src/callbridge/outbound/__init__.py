"""The newest telephony endpoints (Salesforce's 2026 Lambdas call them): voicemail drops, default outbound
numbers, voicemail greetings, routable-number reservations and voice-call contexts, each backed by the
contact-centre file; and the correlation of a later ``POST /voiceCalls`` with a reservation or a context."""
