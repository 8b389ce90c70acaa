"""Emergency drills: the 15-minute muster of response teams and the 15-minute household sweep.

A drill's data lives apart from real work: its own keys and its own change stream, so it is
never counted in real figures and `grid-dispatch drill purge ID` removes it whole.
"""
