"""How operations execute: the executor, input conversion plans, selections and page prefetch."""
