"""
Integrations: one small module per third-party system, each importing it lazily.

Install the system with the extra of the same name (``outcome-kit[huey]``); the
rest of outcome never imports it.
"""
