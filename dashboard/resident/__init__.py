"""The residents' public report form (一码扫楼): token, form reading, pages, rate limit.

The Flask routes live in :mod:`dashboard.api.resident`; these modules hold what they use.
"""
