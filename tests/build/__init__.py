"""Tests of `satchel.build`: the site, its precache, and what it ships for the local servers."""
