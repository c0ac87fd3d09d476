"""Routing: flows as declarative rules, PendingServiceRoutings, and the engine that offers work to agents."""
