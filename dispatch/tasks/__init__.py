"""Tasks: who should handle an event, the assignment, and its life until the call-back."""
