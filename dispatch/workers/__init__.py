"""Grid workers: who they are, where they work, what they can do, and where they are now."""
