"""Proof machinery: self-checking demos that measure torch, torchvision and cifar_core to prove
what the bank's answers claim. Importing the package is free; the registry loads on first use."""
