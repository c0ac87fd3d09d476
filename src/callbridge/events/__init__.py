"""Pushed events: their wire contract and the broker that carries them after commit."""
