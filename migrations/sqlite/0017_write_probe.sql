-- One row the availability watch rewrites while the disk is full: the write that succeeds
-- is the proof that writes work again.
CREATE TABLE write_probe (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    writes INTEGER NOT NULL
);
