"""The HTTP edge: how connections and request heads are read, bounded and refused, before any route."""
