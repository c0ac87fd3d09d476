"""VoiceCall records: create, update (which may create), read back, transfer chains and recordings."""
