"""Is a kernel correct? verify and its rules, with how strong each pass is (proof or test)."""
