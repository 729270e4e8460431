"""Operations the views call: each checks permissions and does one thing in the domain."""
