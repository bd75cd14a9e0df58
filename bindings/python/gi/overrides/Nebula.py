# SPDX-License-Identifier: LGPL-2.1-or-later
"""Pythonic additions to the Nebula GObject Introspection bindings."""
