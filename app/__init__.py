"""Hearth's desktop shell: the only package that imports PySide6."""
