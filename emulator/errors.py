"""Errors a user can act on: one message, a field or line, a hint, an exit code."""

from __future__ import annotations


class LabError(Exception):
    """Bad input or an unusable environment. Exit code 2 unless told otherwise."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None, where: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.where = where

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class RuntimeFailure(LabError):
    """A deploy, exec or teardown step failed on the routers' host."""

    exit_code = 1
