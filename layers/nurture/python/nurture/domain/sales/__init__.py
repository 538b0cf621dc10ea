"""The sales side: who a hot lead goes to, and what sales are told and asked."""
