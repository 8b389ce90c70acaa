"""Who is asking and what they may do: roles, scopes, credentials and the one grant table."""
