"""Word (.docx) packages: reading drafts in and writing versions and redlines out."""
