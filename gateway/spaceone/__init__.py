"""The SpaceONE front door: the seed's REST routes, SpaceONE request parsing and JobInfo output."""
