"""The demo contact centre that `callbridge demo` applies."""

# The console password of every demo agent: contact-center.yaml holds its hash (`callbridge agent
# hash-password`), so a first run needs no set-up before signing in or running `callbridge simulate`.
AGENT_PASSWORD = "demo"
