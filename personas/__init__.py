"""Who speaks: culture profiles, personas, samplers, casting and importers.

This is the bottom wing: it imports no other culturesim package.
"""
