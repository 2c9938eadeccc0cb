"""Tests of `satchel.registry`: its documents, routes and upstream registries."""
