"""A security key in software: the WebAuthn answers (attestation "none", ES256 assertions) a
browser would pass on from a real authenticator, built with `cryptography` and CBOR."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from typing import Any

import cbor2
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.hashes import SHA256

RP_ID = "localhost"
ORIGIN = "http://localhost:5000"
# authenticatorData flags: user present, user verified, attested credential data included.
UP, UV, AT = 0x01, 0x04, 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class SoftwareKey:
    """One credential on one authenticator, whose counter goes up by one for each use."""

    def __init__(self, sign_count: int = 0, counting: bool = True) -> None:
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.sign_count = sign_count
        self.counting = counting

    @property
    def id(self) -> str:
        return b64url(self.credential_id)

    def _cose_key(self) -> bytes:
        numbers = self.private_key.public_key().public_numbers()
        x, y = numbers.x.to_bytes(32, "big"), numbers.y.to_bytes(32, "big")
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: x, -3: y})

    def _client_data(self, kind: str, challenge: str, origin: str) -> bytes:
        fields = {"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}
        return json.dumps(fields).encode()

    def _auth_data(self, rp_id: str, flags: int, extra: bytes = b"") -> bytes:
        rp_hash = hashlib.sha256(rp_id.encode()).digest()
        return rp_hash + bytes([flags]) + self.sign_count.to_bytes(4, "big") + extra

    def _credential(self, **response: Any) -> dict[str, Any]:
        """A PublicKeyCredential as JSON (its toJSON()), with this response."""
        return {
            "id": self.id,
            "rawId": self.id,
            "type": "public-key",
            "response": response,
            "clientExtensionResults": {},
        }

    def registration(
        self, options: dict[str, Any], *, origin: str = ORIGIN, rp_id: str = RP_ID
    ) -> dict[str, Any]:
        """The answer to navigator.credentials.create() with these options."""
        public_key = options["publicKey"]
        client_data = self._client_data("webauthn.create", public_key["challenge"], origin)
        attested = bytes(16) + len(self.credential_id).to_bytes(2, "big") + self.credential_id
        auth_data = self._auth_data(rp_id, UP | UV | AT, attested + self._cose_key())
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return self._credential(
            clientDataJSON=b64url(client_data),
            attestationObject=b64url(attestation),
            transports=["usb"],
        )

    def assertion(
        self,
        options: dict[str, Any],
        *,
        origin: str = ORIGIN,
        rp_id: str = RP_ID,
        signer: ec.EllipticCurvePrivateKey | None = None,
    ) -> dict[str, Any]:
        """The answer to navigator.credentials.get() with these options (the counter moves on)."""
        if self.counting:
            self.sign_count += 1
        client_data = self._client_data("webauthn.get", options["publicKey"]["challenge"], origin)
        auth_data = self._auth_data(rp_id, UP | UV)
        signed = auth_data + hashlib.sha256(client_data).digest()
        signature = (signer or self.private_key).sign(signed, ec.ECDSA(SHA256()))
        return self._credential(
            clientDataJSON=b64url(client_data),
            authenticatorData=b64url(auth_data),
            signature=b64url(signature),
        )
