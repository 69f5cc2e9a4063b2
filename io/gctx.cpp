// implemented by the io work
