"""The schema's types: the Job object types, enums, scalars, inputs and the structured filter."""
