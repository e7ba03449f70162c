// The AGGAN module.
