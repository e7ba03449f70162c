print("aggan")
