"""Key management and all cryptography: master key, party keys, SSHSIG and the age format."""
