"""``callbridge simulate``: realistic traffic against a Callbridge (or any Telephony Integration API) server.

``scenarios`` plans the calls from a seed (deterministic), ``agents`` signs simulated agents in to the console
API and has them take offers from their push stream, ``calls`` plays each planned call over the API as the
telephony side does, ``run`` ties them together and ``summary`` reports what happened.
"""
