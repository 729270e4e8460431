"""Tests of reading and writing Word packages."""
