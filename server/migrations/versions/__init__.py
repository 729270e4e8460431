"""One module per schema revision, made by `peerlex-server db revision`."""
