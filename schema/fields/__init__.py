"""Root fields by feature (thin resolvers: arguments → neutral query → repository → documents)."""
