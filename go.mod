module github.com/trioasyncio/trioasyncio

go 1.25
