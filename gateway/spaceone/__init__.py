"""The SpaceONE front door: the seed's REST routes, SpaceONE request parsing and JobInfo output
(the values themselves come from gateway.mongo.documents, as for GraphQL)."""
