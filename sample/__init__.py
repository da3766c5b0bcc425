"""Helpers of the conference-booking sample (`function_app.py`): the Bookings table and the
pretend travel services its activities call."""
