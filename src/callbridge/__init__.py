"""Callbridge: a self-hostable server for the Salesforce Voice Telephony Integration REST API."""

__version__ = "0.1.0"
