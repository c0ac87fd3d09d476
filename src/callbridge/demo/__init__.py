"""The demo contact centre that `callbridge demo` applies."""
