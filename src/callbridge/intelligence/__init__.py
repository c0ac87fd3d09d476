"""Conversation intelligence: real-time signals for the live console, post-call events in the conversation data
store, and the VoiceCall sentiment scores they set (spec §9)."""
