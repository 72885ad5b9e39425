"""Ops whose output shape depends on values (nonzero, unique, masked_select ...)."""

from __future__ import annotations
