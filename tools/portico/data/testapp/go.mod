module portico.local/testapp

go 1.24
