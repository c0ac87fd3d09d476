"""The agent-facing console API (``/console/v1``): sessions, presence, offers, work and call control."""
