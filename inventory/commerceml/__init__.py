"""CommerceML 2 (1C) import: ``parse`` reads import.xml and offers.xml with a streaming parser that
refuses DTDs and entities; ``load`` writes what they describe through the inventory services."""
