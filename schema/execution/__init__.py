"""How operations execute: input conversion plans, selections and page prefetch."""
