"""Limits and faults for integrators (docs/configuration.md "Limits and faults").

``CALLBRIDGE_LIMITS=salesforce`` enforces Salesforce's published per-org limits (``callbridge.limits.limiter``,
counted in ``callbridge.limits.stores``); ``CALLBRIDGE_FAULTS`` injects errors and delays in front of the API
(``callbridge.limits.faults`` parses it, ``callbridge.limits.injection`` applies it).
"""
