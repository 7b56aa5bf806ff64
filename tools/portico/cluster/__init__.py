"""The local kind cluster: node image (nodeimage, gobuild), kind itself (kind), add-ons (addons), and
bringing it up (lifecycle)."""
