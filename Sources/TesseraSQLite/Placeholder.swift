// TesseraSQLite
