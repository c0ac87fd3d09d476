"""Event streams out: signed webhooks fed from the timeline (docs/integrations.md)."""
